# The service image: `docker build -t followups .`; see compose.yaml for the whole set-up.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/followups
COPY pyproject.toml README.md LICENSE ./
COPY config config
COPY app app
COPY schema schema
COPY resolvers resolvers
COPY orm orm
COPY sync sync
COPY mail mail
COPY calcore calcore
RUN pip install . && useradd --system --home /srv/followups followups
USER followups

ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)" || exit 1
CMD ["followups", "serve"]
