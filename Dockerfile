# Build stage: the same setup and build commands as CI, then an install into /opt/addrservice.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN python3 tools/run.py setup --no-node-tools \
 && python3 tools/run.py build --preset release \
 && cmake --install build/release --prefix /opt/addrservice

# Runtime stage: the shared libraries of tools/runtime-packages.txt, curl for the health check, and the
# installed service running as a user of its own.
FROM debian:12-slim
COPY tools/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl $(sed 's/#.*//' /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && useradd --system --home-dir /var/lib/addrservice --create-home --shell /usr/sbin/nologin addrservice
COPY --from=build /opt/addrservice /opt/addrservice
# The default store is ./var/addressbook.db under the working directory: keep it on a volume.
WORKDIR /var/lib/addrservice
VOLUME /var/lib/addrservice
USER addrservice
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/addrservice/bin/addrservice"]
CMD ["--port", "8080"]
