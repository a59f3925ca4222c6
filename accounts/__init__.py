"""User accounts: e-mail login, sign-up with activation, throttled sign-in."""
