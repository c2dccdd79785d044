"""Delivery: the worker (`publisher run`) that claims due posts, calls their channels with
no transaction open and records each outcome exactly once; leases, reconciling unclear posts,
fanning one post out to many readers at the platform's pace, and checking channels' connections."""
