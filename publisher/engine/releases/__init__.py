"""Releases: articles arriving from the CMS webhook or a feed go to their channels by the
release rules, once; withdrawals cancel what has not gone out; archive articles get another turn."""
