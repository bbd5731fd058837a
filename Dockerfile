# flowcast: build the TypeScript, then run on a slim Node 20 image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY collector collector
COPY storage storage
COPY analytics analytics
COPY api api
COPY cli cli
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production FLOWCAST_DATA_DIR=/var/lib/flowcast
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
RUN mkdir -p /var/lib/flowcast && chown node:node /var/lib/flowcast
USER node
EXPOSE 2055/udp 4739/udp 8080/tcp
VOLUME /var/lib/flowcast
ENTRYPOINT ["node", "dist/cli/flowcast.js"]
CMD ["serve"]
