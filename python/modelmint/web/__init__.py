"""The verification page (``web/``, built into ``static/``) and the local server that serves it.

The page trusts no server: it reads the chain through the user's wallet (or an RPC URL the
user types), recomputes the CID of every byte fetched here, and recomputes every hash by the
rules in docs/. The server only hands out files: the page, the deployment records of the
project's chains, and content from the store.
"""

from modelmint.web.server import PageServer, build_static, page_dir, serve

__all__ = ["PageServer", "build_static", "page_dir", "serve"]
