"""`/media/<name>`: the uploaded pictures, from the configured store (marketplace/core/media.py).

The filesystem store's folder is served by Litestar's static files, as it always was.

The S3 store's objects are proxied: the app reads the object from the bucket and answers it
at the same `/media/` address. It does not redirect to the bucket, because:
- the bucket stays private: only the app holds its credentials, and no public-read policy
  can be got wrong (licences and complaint photos are not for everyone who guesses a host);
- the pictures stay on the site's origin, so the CSP's `img-src 'self'` holds and no page
  changes;
- the object store may be reachable from the servers only (an intranet MinIO).
The cost is the bytes passing through the web process: a picture is at most a 1200 px JPEG,
and each viewer's browser fetches it once (private, immutable: an upload gets a new name).
"""

from typing import Annotated

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter
from litestar.static_files import create_static_files_router

from marketplace.core import media
from marketplace.core.settings import get_settings
from marketplace.core.web import static_assets


@get(
    "/media/{file_path:path}",
    include_in_schema=False,
    middleware=[static_assets.media_cache_middleware],
)
async def from_store(file_path: Annotated[str, PathParameter()]) -> Response[bytes]:
    """A picture read from the store (the S3 store; see above); 503 `media_unavailable` while
    the store cannot be reached."""
    name = file_path.lstrip("/")
    try:
        content = await media.off_loop(media.store().read, name)
    except ValueError:  # not a media name ("..", an empty part)
        content = None
    if content is None:
        raise NotFoundException()
    return Response(content, media_type=media.content_type(name))


def route():
    """The `/media/` route of the configured store."""
    settings = get_settings().media
    if settings.storage == "filesystem":
        return create_static_files_router(
            path="/media",
            directories=[media.FileSystemMedia(settings.root).folder()],
            include_in_schema=False,
            middleware=[static_assets.media_cache_middleware],
        )
    return from_store


ROUTES: list = [route()]
