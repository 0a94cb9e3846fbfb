"""Informator API: registers the blueprints and the error middleware, nothing else."""
from chalice import Chalice

from chalicelib.api import admin, meta, public, subscriptions
from chalicelib.api.http import error_middleware
from chalicelib.events import handlers

app = Chalice(app_name="informator")
app.register_middleware(error_middleware, "http")
for blueprint in (public.bp, subscriptions.bp, admin.bp, meta.bp, handlers.bp):
    app.register_blueprint(blueprint)
