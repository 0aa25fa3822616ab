"""Request and response models. Inputs forbid unknown fields (mass assignment gets a 422)."""
