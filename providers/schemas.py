import msgspec


class ProviderRead(msgspec.Struct):
    id: int
    name: str
    kind: str
    status: str
    node_id: int
