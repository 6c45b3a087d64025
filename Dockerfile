# syntax=docker/dockerfile:1
# One image for both processes: `node api/main.ts` (the default) or
# `node worker/main.ts`. Node.js 24 runs the TypeScript sources directly.
ARG NODE_VERSION=24
ARG TERRAFORM_VERSION=1.11.4

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM debian:bookworm-slim AS terraform
ARG TERRAFORM_VERSION
ARG TARGETARCH
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /tmp/terraform
RUN base="https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}" \
 && zip="terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH:-amd64}.zip" \
 && curl -fsSLO "${base}/${zip}" \
 && curl -fsSLO "${base}/terraform_${TERRAFORM_VERSION}_SHA256SUMS" \
 && grep " ${zip}\$" "terraform_${TERRAFORM_VERSION}_SHA256SUMS" | sha256sum -c - \
 && unzip "${zip}" terraform -d /usr/local/bin \
 && /usr/local/bin/terraform version

FROM node:${NODE_VERSION}-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=terraform /usr/local/bin/terraform /usr/local/bin/terraform
ENV NODE_ENV=production \
    TF_CWD=/app/tf \
    WORK_DIR=/tmp/tfcompute \
    TF_PLUGIN_CACHE_DIR=/home/node/.terraform.d/plugin-cache
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY core ./core
COPY api ./api
COPY worker ./worker
COPY module-ec2-instance ./module-ec2-instance
# Workers write the dependency lock file and an init lock beside the root config.
COPY --chown=node:node tf ./tf
USER node
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
# The flags are package.json's config.apiNodeFlags (see scripts/api-node-flags.ts).
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=128", "api/main.ts"]
