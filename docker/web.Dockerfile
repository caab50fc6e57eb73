# syntax=docker/dockerfile:1.7
# The SPA (Next.js static export) served by Nginx, which also proxies the API, the WebSocket, the admin UI
# and the media bucket (see docker/nginx.conf).
FROM node:20-bookworm-slim AS build
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY web/ ./
ENV NEXT_TELEMETRY_DISABLED=1
RUN npm run build

FROM nginx:1.27-alpine
# Only ${S3_BUCKET} and ${CSP_MEDIA_SOURCES} are substituted into the template; Nginx's own $variables stay as
# they are. CSP_MEDIA_SOURCES: extra origins the SPA may load media from (an S3 not proxied on this origin).
ENV NGINX_ENVSUBST_FILTER=^(S3_BUCKET|CSP_MEDIA_SOURCES)$ \
    S3_BUCKET=aiam-media \
    CSP_MEDIA_SOURCES=""
RUN rm -f /etc/nginx/conf.d/default.conf
COPY docker/nginx.conf /etc/nginx/templates/default.conf.template
COPY --from=build /web/out /usr/share/nginx/html
EXPOSE 80 8080
