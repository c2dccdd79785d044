"""The HTTP side: the CMS webhook, the share widget and the web desk."""
