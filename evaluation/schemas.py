import msgspec


class EvaluatorRead(msgspec.Struct):
    id: int
    name: str
    node_id: int
