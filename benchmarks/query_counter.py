"""What the benchmarks share: counting the statements a run sends to the database."""


class QueryCounter:
    """Counts the statements run on a connection (use with `connection.execute_wrapper(counter)`),
    without keeping their text, so a long run costs no memory for it."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)
