"""Send a fixed set of calls to Kairos through an official SDK, unchanged.

usage: send.py segment|rudderstack HOST WRITE_KEY PREFIX
Prints one JSON line: the number of errors the SDK reported.
"""
import json
import sys

sdk, host, write_key, prefix = sys.argv[1:5]
errors = []


def on_error(error, items):
    errors.append(repr(error))


if sdk == "segment":
    from segment.analytics import Client

    client = Client(write_key=write_key, host=host, gzip=True, on_error=on_error, max_retries=1)
elif sdk == "rudderstack":
    from rudderstack.analytics.client import Client

    client = Client(write_key=write_key, host=host, gzip=True, on_error=on_error, max_retries=1)
else:
    raise SystemExit(f"unknown sdk {sdk}")

user = f"{prefix}-user"
client.page(anonymous_id=f"{prefix}-anon", name="Pricing", properties={"path": "/pricing"}, message_id=f"{prefix}-1")
client.identify(
    user_id=user,
    anonymous_id=f"{prefix}-anon",
    traits={"email": f"{prefix}@Example.com", "firstName": "Sdk", "plan": "pro", "company": {"id": f"{prefix}-co", "name": "SDK Co"}},
    message_id=f"{prefix}-2",
)
client.track(user_id=user, event="Order Completed", properties={"total": 12.5, "currency": "EUR"}, message_id=f"{prefix}-3")
client.screen(user_id=user, name="Home", message_id=f"{prefix}-4")
client.group(user_id=user, group_id=f"{prefix}-co", traits={"employees": 12}, message_id=f"{prefix}-5")
client.alias(previous_id=f"{prefix}-old", user_id=user, message_id=f"{prefix}-6")
for i in range(200):
    client.track(user_id=user, event="Item Viewed", properties={"i": i}, message_id=f"{prefix}-bulk-{i}")
client.flush()
client.join()
print(json.dumps({"errors": errors}))
