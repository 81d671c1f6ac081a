"""moto's server with one request at a time.

moto_server runs werkzeug threaded, and then a conditional write is not atomic against a
concurrent one: optimistic-concurrency tests lose updates at random. Real DynamoDB checks
conditions atomically; serving requests one by one gives the tests that guarantee.
Usage: python moto_serial.py HOST PORT
"""
import sys

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
run_simple(sys.argv[1], int(sys.argv[2]), app, threaded=False, request_handler=MotoRequestHandler)
