"""Provider organisations and their users."""

from providers.tables import Provider, ProviderUser


async def find_user_credentials(username: str) -> tuple[int, str] | None:
    row = await ProviderUser.select(ProviderUser.id, ProviderUser.password_hash).where(
        (ProviderUser.username == username) & (ProviderUser.active == True)  # noqa: E712
    ).first()
    return (row["id"], row["password_hash"]) if row else None


async def get_user(user_id: int) -> dict | None:
    """The user with their provider's id, name, status and federation node."""
    rows = await ProviderUser.raw(
        "SELECT u.id, u.display_name, u.role, u.provider AS provider_id, p.name AS provider_name, "
        "p.status AS provider_status, p.node AS node_id "
        "FROM provider_user u JOIN provider p ON p.id = u.provider WHERE u.id = {} AND u.active",
        user_id,
    )
    return rows[0] if rows else None


async def get_provider(provider_id: int) -> dict | None:
    return await Provider.select().where(Provider.id == provider_id).first()


async def list_locations(provider_id: int) -> list[dict]:
    from providers.tables import Location

    return await Location.select().where(Location.provider == provider_id).order_by(Location.id)


async def provider_for_index(provider_id: int) -> dict | None:
    """What search shows of a provider: name, kind, status, node and its locations.

    {"id", "name", "kind", "status", "node_id", "locations": [{"id", "name", "address",
    "district", "latitude", "longitude", "opening_hours"}]}; None if it does not exist.
    """
    provider = await get_provider(provider_id)
    if provider is None:
        return None
    locations = await list_locations(provider_id)
    return {
        "id": provider["id"], "name": provider["name"], "kind": provider["kind"],
        "status": provider["status"], "node_id": provider["node"],
        "locations": [
            {key: location[key] for key in
             ("id", "name", "address", "district", "latitude", "longitude", "opening_hours")}
            for location in locations
        ],
    }
