#!/usr/bin/env bash
# Installs, with apt-get, every Debian 12 package zkr needs to build, test and run its demo.
# Boost 1.81 only: the 1.74 headers (libboost-dev) conflict with it and are never installed.
set -euo pipefail

packages=(
    g++ clang-16 libclang-rt-16-dev cmake ninja-build pkg-config
    libboost1.81-dev libboost-log1.81-dev libboost-system1.81-dev libboost-thread1.81-dev
    libboost-json1.81-dev
    libzookeeper-st-dev libzookeeper-mt2 zookeeper default-jre-headless netcat-openbsd iproute2 procps bc
    libgtest-dev clang-format
    openssl libssl-dev libnetty-java  # TLS: test CA, asio::ssl, the test servers' Netty TLS handler
    libsqlite3-dev prometheus-cpp-dev
    libcurator-recipes-java libcurator-discovery-java libslf4j-java python3-kazoo
    openjdk-17-jdk-headless  # javac: the Curator peers (integration/peers/java-peer) and bench driver
    dpkg-dev file groff-base man-db
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
