"""moto's server with DynamoDB writes made atomic, as they are on AWS.

moto serves requests on many threads, and its DynamoDB backend reads and writes an item without
a lock: two concurrent UpdateItem ADDs on one item can both start from the same value, which
DynamoDB never does. Our conformance suite checks that atomicity, so the emulator must have it.
Every DynamoDB backend operation runs under one re-entrant lock; SQS keeps its threads, so a
long poll never blocks other requests.
"""

import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()
_OPERATIONS = ("put_item", "get_item", "query", "update_item", "delete_item", "transact_write_items")


def _locked(operation):
    def run(self, *args, **kwargs):
        with _LOCK:
            return operation(self, *args, **kwargs)

    return run


for name in _OPERATIONS:
    setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))

if __name__ == "__main__":
    sys.exit(main())
