"""Informator API: registers the blueprints and the error middleware, nothing else."""
from chalice import Chalice

from chalicelib.api import (
    admin,
    admin_feeds,
    admin_settings,
    admin_staff,
    admin_subscribers,
    meta,
    open311,
    public,
    reports,
    subscriptions,
)
from chalicelib.api import webpush as web_push
from chalicelib.api.http import error_middleware
from chalicelib.events import feeds as feed_events
from chalicelib.events import handlers
from chalicelib.events import photos as photo_events
from chalicelib.events import retention as retention_events
from chalicelib.events import webpush as webpush_events

app = Chalice(app_name="informator")
app.register_middleware(error_middleware, "http")
app.register_blueprint(public.bp)
app.register_blueprint(subscriptions.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(admin_settings.bp)
app.register_blueprint(admin_staff.bp)
app.register_blueprint(admin_subscribers.bp)
app.register_blueprint(meta.bp)
app.register_blueprint(handlers.bp)
app.register_blueprint(admin_feeds.bp)
app.register_blueprint(feed_events.bp)
app.register_blueprint(reports.bp)
app.register_blueprint(open311.bp)
app.register_blueprint(photo_events.bp)
app.register_blueprint(retention_events.bp)
app.register_blueprint(web_push.bp)
app.register_blueprint(webpush_events.bp)
