"""A local Ray cluster for development and CI: a head node and more node processes, all on 127.0.0.1.

    python scripts/ray_local_cluster.py --nodes 2 --address-file /tmp/shelfwise-ray/address &

Ray's ``ray start`` resolves 127.0.0.1 to the machine's network address, so a multi-node cluster started that
way talks over the network interface; this script uses Ray's own ``ray.cluster_utils.Cluster`` with
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which keeps every node (separate raylet processes) on the loopback address.
Drivers that connect must set the same variable (shelfwise does, for a loopback address). The cluster lives as
long as this process: stop it with SIGTERM (``scripts/dev_services.sh stop``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=2, help="node processes, the head included")
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--address-file", type=Path, required=True)
    args = parser.parse_args()
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": args.cpus_per_node, "include_dashboard": False},
    )
    for _ in range(args.nodes - 1):
        cluster.add_node(num_cpus=args.cpus_per_node)
    cluster.wait_for_nodes()
    args.address_file.parent.mkdir(parents=True, exist_ok=True)
    args.address_file.write_text(cluster.address)
    print(cluster.address, flush=True)

    def stop(*_: object) -> None:
        cluster.shutdown()
        args.address_file.unlink(missing_ok=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
