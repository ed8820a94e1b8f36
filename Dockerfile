# omnistock: one image for `serve` (the default), `worker`, `migrate` and the other CLI commands.
#
#   docker build -t omnistock:0.1.0 .
#   docker run --rm -e DATABASE_URL=postgresql://... omnistock:0.1.0 migrate
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgresql://... omnistock:0.1.0
#   docker run --rm -e DATABASE_URL=postgresql://... omnistock:0.1.0 worker
#
# The runtime stage writes nothing outside /tmp: run it with a read-only root filesystem and a
# tmpfs/emptyDir at /tmp (k8s/base does), as the non-root user 10001:10001 it declares.
#
# Base image: an exact patch release of Debian bookworm's python slim, the same in both stages
# (the venv's interpreter symlinks point into it). Pin its digest too when you build; it cannot
# be looked up offline, so it is not written here:
#   docker buildx imagetools inspect python:3.11.11-slim-bookworm
#   docker build --build-arg PYTHON_IMAGE=python:3.11.11-slim-bookworm@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# ------------------------------------------------------------------------------------ builder
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src

# 1. Wheels of the dependencies, from pyproject.toml alone, so this layer is rebuilt only when
#    the dependencies change. Every dependency ships manylinux wheels for CPython 3.11: no
#    compiler is needed. zeep's AsyncTransport (used by the Cegid adapter) needs zeep's "async"
#    extra (httpx + packaging); it is asked for here explicitly until pyproject.toml says
#    "zeep[async]" itself (a plain `pip install .` lacks `packaging`, and serve/worker then stop
#    at start-up with "install zeep with the async extras").
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && echo 'zeep[async]' >> /tmp/requirements.txt \
 && pip wheel --wheel-dir /wheels --requirement /tmp/requirements.txt

# 2. The omnistock wheel (hatchling; sql/ is force-included as stores/sql, the getting-started
#    guide as service/api/static/getting-started.md).
COPY service ./service
COPY stores ./stores
COPY sql ./sql
COPY docs/getting-started.md ./docs/getting-started.md
RUN pip wheel --no-deps --wheel-dir /wheels .

# 3. A venv without pip, filled from the wheels only (--no-index: nothing is fetched here).
RUN python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --no-index --find-links /wheels \
        /wheels/omnistock-*.whl 'zeep[async]'

# 4. Smoke test of the installed package, from outside the source tree: the CLI loads, the
#    migrations are packaged, zeep's async transport can be built, the guide is packaged.
WORKDIR /
RUN /opt/venv/bin/omnistock --help > /dev/null \
 && /opt/venv/bin/python -c "from stores.migrate import default_migrations_dir as d, load_migrations as l; assert l(d()), 'no migrations packaged'" \
 && /opt/venv/bin/python -c "from zeep.transports import AsyncTransport; AsyncTransport()" \
 && /opt/venv/bin/python -c "from service.api.docs import guide_html; assert 'Idempotency-Key' in guide_html()"

# ------------------------------------------------------------------------------------ runtime
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="omnistock" \
      org.opencontainers.image.description="Store stock, e-reservations and click-and-collect between PrestaShop and Cegid Retail Y2" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Proprietary"

# uid/gid 10001: above every system range, and the runAsUser of k8s/base.
RUN groupadd --system --gid 10001 omnistock \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin omnistock

# Owned by root and not writable by 10001: the code cannot be changed at run time.
COPY --from=builder /opt/venv /opt/venv

# PYTHONDONTWRITEBYTECODE: no __pycache__ writes on a read-only root (pip precompiled the .pyc).
# OMNISTOCK_HOST: listen on every interface in a container. OMNISTOCK_DATA_DIR: only used by the
# embedded PostgreSQL when DATABASE_URL is unset; under /tmp so even that stays writable.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    OMNISTOCK_HOST=0.0.0.0 \
    OMNISTOCK_PORT=8080 \
    OMNISTOCK_DATA_DIR=/tmp/omnistock

WORKDIR /
USER 10001:10001
EXPOSE 8080

# No HEALTHCHECK: the same image runs `worker` and `migrate`, which serve no HTTP, and Kubernetes
# ignores it (k8s/base probes /healthz and /readyz). With plain Docker, for `serve`:
#   --health-cmd 'python -c "import urllib.request as u; u.urlopen(\"http://127.0.0.1:8080/healthz\", timeout=2)"'
# Python runs as PID 1: serve and worker install their own SIGTERM/SIGINT handlers (graceful
# stop) and start no child processes, so no init process is needed.
ENTRYPOINT ["omnistock"]
CMD ["serve"]
