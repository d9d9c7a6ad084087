"""The session-recording viewer: storage backends, the recording index and the web app.

`lab.viewer.app.create_app(settings, storage)` builds the application; the modules it needs
(Starlette, Authlib, boto3) come with the `viewer` extra and are imported only by the app.
"""
