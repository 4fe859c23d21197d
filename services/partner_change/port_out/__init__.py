"""Port-out: a number leaves us for another BSP (360dialog's "Port number 360dialog → another BSP")."""
