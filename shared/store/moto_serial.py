"""moto's server with one request at a time, and transactions checked before they write.

- moto_server runs werkzeug threaded, and then a conditional write is not atomic against a
  concurrent one: optimistic-concurrency tests lose updates at random. Real DynamoDB checks
  conditions atomically; serving requests one by one gives the tests that guarantee.
- moto's TransactWriteItems deep-copies every table it touches (once per action) to roll
  back on failure: on a table of 20,000 items that takes seconds and gigabytes per call. Here
  a transaction checks every condition first and writes only if all hold, which is what
  DynamoDB does, so nothing needs rolling back (and a cancelled transaction leaves no stream
  records behind).
Usage: python moto_serial.py HOST PORT
"""
import sys

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    actions, seen, errors = [], set(), []
    # Phase 1: validate and check every condition; nothing is written yet.
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        table_name = op["TableName"]
        table = self.get_table(table_name)
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        unique = (str(table_name), str(dict(sorted(key.items()))))
        if unique in seen:
            raise MultipleTransactionsException()
        seen.add(unique)
        condition = op.get("ConditionExpression")
        error = (None, None, None)
        if condition is not None:
            current = self.get_item(table_name, key)
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not check.expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                error = ("ConditionalCheckFailed", "The conditional request failed", old)
        errors.append(error)
        actions.append((op_type, op, table_name, key))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    # Phase 2: every condition held: write (conditions already checked).
    for op_type, op, table_name, key in actions:
        names = op.get("ExpressionAttributeNames")
        values = op.get("ExpressionAttributeValues")
        if op_type == "Put":
            self.put_item(table_name, op["Item"])
        elif op_type == "Delete":
            self.delete_item(table_name, key)
        elif op_type == "Update":
            self.update_item(
                table_name,
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=names,
                expression_attribute_values=values,
            )


DynamoDBBackend.transact_write_items = transact_write_items

app = DomainDispatcherApplication(create_backend_app)
run_simple(sys.argv[1], int(sys.argv[2]), app, threaded=False, request_handler=MotoRequestHandler)
