"""OpenTelemetry tracing, the optional `otel` extra: off unless HUB_OTEL_ENABLED."""

from starlette.applications import Starlette

from hub.config import Settings


class TracingUnavailable(RuntimeError):
    """HUB_OTEL_ENABLED is true but the otel extra is not installed."""


def enable_tracing(app: Starlette, settings: Settings) -> None:
    """Wrap `app` in OpenTelemetry's ASGI middleware when tracing is enabled.

    The imports live here, not at the top: the default install has no
    OpenTelemetry and imports none of it. The exporter is the operator's
    (OTEL_* variables, or `opentelemetry-instrument` with an exporter package).
    """
    if not settings.otel_enabled:
        return
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError as e:
        raise TracingUnavailable(
            f"HUB_OTEL_ENABLED is true but OpenTelemetry is not installed ({e.name}): "
            "pip install 'ecredit-hub[otel]', or set HUB_OTEL_ENABLED=false"
        ) from None
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    # Outermost, so a span covers the whole request, refusals included.
    app.add_middleware(OpenTelemetryMiddleware)
