"""Mosquitto configurations for motcua, and a development broker to run them."""
