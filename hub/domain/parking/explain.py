"""The plain-language sentences of a quote's lines, in Chinese and in English."""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from decimal import Decimal

from hub.domain.parking.tariff import CapWindow, NightRate, PlateColor, VehicleClass

CLASS_ZH = {VehicleClass.SMALL: "小型车", VehicleClass.LARGE: "大型车",
            VehicleClass.MOTORCYCLE: "摩托车", VehicleClass.NEW_ENERGY: "新能源车"}
CLASS_EN = {VehicleClass.SMALL: "Small car", VehicleClass.LARGE: "Large vehicle",
            VehicleClass.MOTORCYCLE: "Motorcycle", VehicleClass.NEW_ENERGY: "New-energy vehicle"}
PLATE_ZH = {PlateColor.BLUE: "蓝牌", PlateColor.GREEN: "绿牌", PlateColor.YELLOW: "黄牌",
            PlateColor.WHITE: "白牌", PlateColor.BLACK: "黑牌"}


def yuan(amount: Decimal) -> str:
    return f"¥{amount:.2f}"


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def when(moment: datetime, zone: tzinfo | None) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def free_deducted(minutes: int) -> tuple[str, str]:
    return (f"免费{minutes}分钟：每次停车的前{minutes}分钟不收费",
            f"{minutes} free minutes: the first {minutes} minutes of every stay are not charged")


def free_within(minutes: int, stayed: int) -> tuple[str, str]:
    return (f"停车{stayed}分钟，未超过免费时长{minutes}分钟，不收费",
            f"Free: the stay of {stayed} minutes is within the {minutes} free minutes")


def grace_exceeded(minutes: int, stayed: int) -> tuple[str, str]:
    return (f"停车{stayed}分钟，超过免费时长{minutes}分钟，自入场时起计费",
            f"The stay of {stayed} minutes is longer than the {minutes} free minutes, "
            "so it is charged from entry")


def first_period(minutes: int, price: Decimal) -> tuple[str, str]:
    return (f"首{minutes}分钟 {yuan(price)}", f"First {minutes} minutes: {yuan(price)}")


def per_unit(night: NightRate | None, is_night: bool, minutes: int, price: Decimal,
             units: int) -> tuple[str, str]:
    total = yuan(price * units)
    if night is None:
        zh_rule, en_rule = "", ""
    elif is_night:
        hours = f"{hhmm(night.start)}–{hhmm(night.end)}"
        zh_rule, en_rule = f"夜间{hours} ", f"Night {hours}: "
    else:
        hours = f"{hhmm(night.end)}–{hhmm(night.start)}"
        zh_rule, en_rule = f"日间{hours} ", f"Day {hours}: "
    return (f"{zh_rule}每{minutes}分钟 {yuan(price)}，不足{minutes}分钟按{minutes}分钟计，"
            f"共{units}个 = {total}",
            f"{en_rule}{yuan(price)} per started {minutes} minutes × {units} = {total}")


def per_entry(price: Decimal) -> tuple[str, str]:
    return f"按次收费 {yuan(price)}", f"Per entry: {yuan(price)}"


def class_multiplier(vehicle: VehicleClass, factor: Decimal, before: Decimal,
                     after: Decimal) -> tuple[str, str]:
    return (f"{CLASS_ZH[vehicle]} ×{factor}：{yuan(before)} → {yuan(after)}",
            f"{CLASS_EN[vehicle]} ×{factor}: {yuan(before)} → {yuan(after)}")


def plate_multiplier(plate: PlateColor, factor: Decimal, before: Decimal,
                     after: Decimal) -> tuple[str, str]:
    return (f"{PLATE_ZH[plate]} ×{factor}：{yuan(before)} → {yuan(after)}",
            f"{plate.value.capitalize()} plate ×{factor}: {yuan(before)} → {yuan(after)}")


def cap(window: CapWindow, amount: Decimal, start: datetime, zone: tzinfo | None,
        earlier: Decimal, before: Decimal, after: Decimal) -> tuple[str, str]:
    since = when(start, zone)
    if window is CapWindow.ROLLING_24H:
        zh_window, en_window = f"自{since}起24小时", f"per 24 hours from {since}"
    else:
        zh_window, en_window = f"{since[:5]}当日", f"on the calendar day {since[:5]}"
    zh_earlier = f"，此前停车已收{yuan(earlier)}" if earlier else ""
    en_earlier = f", earlier stays paid {yuan(earlier)}" if earlier else ""
    return (f"{zh_window}最高收费{yuan(amount)}{zh_earlier}：{yuan(before)} → {yuan(after)}",
            f"Cap {yuan(amount)} {en_window}{en_earlier}: {yuan(before)} → {yuan(after)}")


def coupon_free() -> tuple[str, str]:
    return "免单券：本次停车免费", "Free-parking coupon: this stay is free"


def coupon_minutes(minutes: int, as_if: datetime, zone: tzinfo | None) -> tuple[str, str]:
    return (f"{minutes}分钟抵扣券：按{when(as_if, zone)}离场计费",
            f"{minutes}-minute coupon: charged as if the car left at {when(as_if, zone)}")


def coupon_percent(percent: Decimal) -> tuple[str, str]:
    return f"{percent}%折扣券", f"{percent}% off coupon"


def coupon_amount(amount: Decimal) -> tuple[str, str]:
    return f"{yuan(amount)}抵用券", f"{yuan(amount)} coupon"
