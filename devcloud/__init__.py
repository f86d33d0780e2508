"""devcloud: an embedded OpenStack-compatible cloud (Keystone, Nova, Glance, Cinder, Placement) in one process.

It is the default backend of the Stratus demo and tests. It never imports the dashboard, and the dashboard
never imports it: they meet over HTTP, exactly as the dashboard meets a production cloud.
"""
