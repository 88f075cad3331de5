"""The counter terminal: next-call buttons and numeric-keypad shortcuts for counter staff."""
