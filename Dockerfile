# flowcast: build the TypeScript on a full Node image, run the output as an unprivileged user on a
# slim one. The base images are pinned to the Node release the tests run on.
FROM node:20.20.2-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY collector collector
COPY storage storage
COPY analytics analytics
COPY api api
COPY cli cli
COPY console console
RUN npm run build && npm prune --omit=dev

FROM node:20.20.2-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production FLOWCAST_DATA_DIR=/var/lib/flowcast
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
RUN mkdir -p /var/lib/flowcast && chown node:node /var/lib/flowcast
# The node image's unprivileged user (uid 1000); UDP 2055/4739 and 8080 need no privilege.
USER node
EXPOSE 2055/udp 4739/udp 8080/tcp
VOLUME /var/lib/flowcast
# Healthy when the API answers GET /api/v1/health (Node's fetch: the slim image has no curl).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.FLOWCAST_HTTP_PORT||8080)+'/api/v1/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/flowcast.js"]
CMD ["serve"]
