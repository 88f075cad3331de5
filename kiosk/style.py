"""The kiosk's colours and sizes: high contrast, large touch targets, readable at arm's length."""

# Text on these backgrounds has a contrast ratio of at least 7:1 (WCAG AAA).
PAPER = (0.97, 0.98, 1.0, 1)
INK = (0.05, 0.09, 0.16, 1)
MUTED = (0.22, 0.27, 0.35, 1)
WHITE = (1, 1, 1, 1)
BLUE = (0.03, 0.27, 0.56, 1)
BLUE_DOWN = (0.02, 0.18, 0.38, 1)
TILE = (0.88, 0.92, 0.98, 1)
GREEN = (0.0, 0.38, 0.2, 1)
AMBER = (1.0, 0.82, 0.25, 1)
RED = (0.66, 0.07, 0.07, 1)
ORANGE = (0.72, 0.26, 0.0, 1)
GREY = (0.82, 0.85, 0.9, 1)

# Sizes are in `u`, a hundredth of the window's shorter side, so one layout fits a
# landscape 1280x800 kiosk and a portrait 1080x1920 one alike. 15 mm on a 21.5" full-HD
# screen is about 60 px: touch targets are at least 12u high (96 px at 800 px).
TOUCH_MIN_U = 12
