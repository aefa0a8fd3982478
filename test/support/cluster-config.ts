// The cluster block most integration tests share: directors d1 (priority 150) and d2,
// and a witness w1, on LAN.91-.93, fencing by self-release.
export interface TrioSettings {
  readonly clusterId: string;
  readonly lan: string;
  readonly port: number;
  readonly heartbeat: string;
  readonly deadtime: string;
}

export function directorsAndWitness(s: TrioSettings): string {
  return `cluster {
    cluster_id ${s.clusterId}
    auth_key_file cluster.key
    port ${s.port}
    heartbeat_interval ${s.heartbeat}
    deadtime ${s.deadtime}
    fencing {
        mode self_release
    }
    node d1 {
        address ${s.lan}.91
        priority 150
    }
    node d2 {
        address ${s.lan}.92
    }
    node w1 {
        address ${s.lan}.93
        priority 0
        witness
    }
}
`;
}

/** VI_1 on lo between d1 (priority 150) and d2 (100), advert 1 s, one VIP. */
export function loopbackInstance(vrid: number, vip: string): string {
  return `vrrp_instance VI_1 {
    interface lo
    virtual_router_id ${vrid}
@d1 priority 150
@d2 priority 100
    advert_int 1
    virtual_ipaddress {
        ${vip}/32
    }
}
`;
}
