"""The two Lambda functions `lab aws lambda deploy` publishes, each one self-contained module.

They import only the Python standard library and boto3 (both in the Lambda Python runtime), and
are zipped as they are: `power.py` (start/stop/status of lab hosts by tag) and `dns_update.py`
(the Route 53 record of a lab host follows its EC2 state).
"""
