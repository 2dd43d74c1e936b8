# The registry's production image: gunicorn (web), Celery worker and beat all run from it.
# See docker-compose.yml for how the services are put together.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    REGISTRY_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, so editing the code does not reinstall them. psycopg[binary] ships its
# own libpq, so no compiler or system libraries are needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

# A fixed, unprivileged user; var/ (uploads, import staging, beat schedule) and staticfiles/
# are the only places it writes.
RUN groupadd --system --gid 10001 registry \
    && useradd --system --uid 10001 --gid registry --home-dir /app --no-create-home registry \
    && mkdir -p /app/var /app/staticfiles \
    && chown registry:registry /app/var /app/staticfiles

COPY --chown=registry:registry . .

USER registry
EXPOSE 8000

# Threaded workers: a streamed export of thousands of records (REDCap API, datasets) keeps a thread
# busy for tens of seconds, which a sync worker's 30-second timeout would cut off mid-response.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "4", \
     "--timeout", "300", "--access-logfile", "-"]
