"""The domain: plain Python, no IO, no clock. Time comes in as `at`."""
