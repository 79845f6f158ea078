# The relflow worker: multi-stage, non-root, production dependencies only,
# with git, python3, build and twine inside.
FROM node:24.21-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json

FROM node:24.21-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends git python3 python3-venv ca-certificates openssh-client bubblewrap \
  && rm -rf /var/lib/apt/lists/*
COPY scripts/requirements-tools.txt /tmp/requirements-tools.txt
RUN python3 -m venv /opt/relflow-tools \
  && /opt/relflow-tools/bin/pip install --no-cache-dir build==1.3.0 twine==6.2.0 setuptools==80.9.0 wheel==0.45.1
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /src/lib/src ./lib/src
COPY bin ./bin
COPY relflow.example.yaml relflow.secrets.example.yaml ./
# The workflow bundle, written once here: a worker start loads it instead of bundling.
RUN node bin/relflow worker --write-bundle /app/workflows.js
RUN mkdir -p /workspace && chown node:node /workspace
USER node
ENV RELFLOW_WORKSPACE=/workspace RELFLOW_PYTHON=/opt/relflow-tools/bin/python RELFLOW_WORKFLOW_BUNDLE=/app/workflows.js NODE_ENV=production
CMD ["node", "bin/relflow", "worker"]
