"""Where the portal's pages live: the audit log records every one of them."""

# Exact paths of pages.
PORTAL_PAGES = ("/", "/ratings", "/notice", "/red-black", "/dashboard")
# Pages under these prefixes (an enterprise's page, downloads, form posts).
PORTAL_PREFIXES = ("/enterprises/", "/downloads/", "/notice/", "/dashboard/")
