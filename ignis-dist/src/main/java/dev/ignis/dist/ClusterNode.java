package dev.ignis.dist;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.InMemoryAssignment;
import dev.ignis.assignment.replicated.Partitioning;
import dev.ignis.assignment.replicated.ReplicatedPartition;
import dev.ignis.async.EventQueue;
import dev.ignis.cluster.AssignmentEndpoint;
import dev.ignis.cluster.ClusterFrontend;
import dev.ignis.cluster.ConfigReplica;
import dev.ignis.cluster.ControlEndpoint;
import dev.ignis.cluster.LeaderWatch;
import dev.ignis.cluster.RemoteAssignment;
import dev.ignis.cluster.RemoteWorker;
import dev.ignis.cluster.Rpc;
import dev.ignis.cluster.Topology;
import dev.ignis.cluster.Topology.Role;
import dev.ignis.cluster.WorkerEndpoint;
import dev.ignis.cluster.WorkerPool;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.SecretSealer;
import dev.ignis.frontend.FrontendServer;
import dev.ignis.frontend.Health;
import dev.ignis.frontend.InvokePath;
import dev.ignis.frontend.LambdaApi;
import dev.ignis.journal.JournalConfig;
import dev.ignis.journal.Journal;
import dev.ignis.journal.RatisJournal;
import dev.ignis.runtimes.RuntimeCatalog;
import dev.ignis.worker.SandboxWorker;
import dev.ignis.worker.WorkerCapacity;
import dev.ignis.worker.WorkerConfig;
import dev.ignis.worker.sandbox.SandboxReach;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process of a cluster ({@code ignis serve --role ... --peers FILE --node ID}): the roles the
 * cluster file gives this node, wired to each other and to the other nodes over gRPC. All wiring of
 * a cluster process happens here, as {@link Platform} does for the single node.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    /** How often an assignment leader compares its table with what each worker holds. */
    private static final Duration RECONCILE_EVERY = Duration.ofSeconds(1);

    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    private final Topology.Node me;
    private volatile FrontendServer frontend;
    private volatile FrontendServer ops;

    private ClusterNode(Topology.Node me) {
        this.me = me;
    }

    /** The HTTP port of this node's frontend (0 when it has none). */
    public int httpPort() {
        return frontend == null ? 0 : frontend.port();
    }

    /** This node's operator port on 127.0.0.1, or -1 when it has none. */
    public int metricsPort() {
        return ops == null ? -1 : ops.port();
    }

    public Topology.Node node() {
        return me;
    }

    public static ClusterNode start(Topology topology, String nodeId, Path dataDir, Path runtimeHome, Duration keepAlive) {
        return start(topology, nodeId, dataDir, runtimeHome, keepAlive, -1);
    }

    /** @param metricsPort this node's operator port on 127.0.0.1 (metrics without a token, probes); -1: none, 0: a free one */
    public static ClusterNode start(Topology topology, String nodeId, Path dataDir, Path runtimeHome, Duration keepAlive, int metricsPort) {
        ClusterNode node = new ClusterNode(topology.require(nodeId));
        try {
            node.startRoles(topology, dataDir.toAbsolutePath(), runtimeHome.toAbsolutePath(), keepAlive, metricsPort);
            return node;
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closeables.push(c);
        return c;
    }

    private void startRoles(Topology topology, Path data, Path runtimeHome, Duration keepAlive, int metricsPort) {
        Clock clock = Clock.systemUTC();
        // one registry and one set of readiness checks per node, whatever roles it runs
        Metrics metrics = new Metrics();
        List<Health.Check> checks = new ArrayList<>();
        Platform.createPrivateDir(data);
        Path shared = topology.shared();
        Platform.createPrivateDir(shared);
        Rpc.Channels channels = closeLater(new Rpc.Channels());
        List<Object> services = new ArrayList<>();
        RuntimeCatalog runtimes = me.has(Role.WORKER) || me.has(Role.CONFIG) ? RuntimeCatalog.install(runtimeHome) : null;
        WorkerPool pool = new WorkerPool(topology.withRole(Role.WORKER), channels);
        List<Topology.Node> leaderSources = topology.nodes().stream()
                .filter(n -> n.has(Role.CONFIG) || n.has(Role.ASSIGNMENT)).toList();

        if (me.has(Role.WORKER)) {
            // sandboxes read their code below the shared directory and their runtimes below the runtime home
            SandboxReach.requireTraversable(data, "the data directory");
            SandboxReach.requireTraversable(shared, "the cluster's shared directory");
            SandboxReach.requireTraversable(runtimeHome, "the runtime home");
            // the workers of one host share it: each gets an equal share of what the host leaves to sandboxes
            int onThisHost = (int) topology.withRole(Role.WORKER).stream().filter(n -> n.host().equals(me.host())).count();
            SandboxWorker worker = closeLater(SandboxWorker.process(WorkerConfig.defaults(PlatformConfig.workerIdFor(data),
                    data.resolve("worker"), runtimes::find).withCapacity(WorkerCapacity.ofHost(onThisHost))));
            services.add(new WorkerEndpoint(worker));
            checks.add(Probes.worker(data, shared, runtimeHome));
            checks.add(Probes.runtimes(runtimes));
        }

        Map<String, Journal> groups = new LinkedHashMap<>();
        ConfigStore config = null;
        if (me.has(Role.CONFIG)) {
            Set<String> ids = new HashSet<>();
            runtimes.all().forEach(r -> ids.add(r.id()));
            AtomicReference<RatisJournal> configJournal = new AtomicReference<>();
            config = closeLater(new ConfigStore(sm -> {
                configJournal.set(RatisJournal.open(groupConfig(topology, Topology.CONFIG_GROUP, data), sm));
                return configJournal.get();
            }, Platform.codeStore(shared), SecretSealer.open(shared), ids, clock));
            AtomicReference<RatisJournal> eventsJournal = new AtomicReference<>();
            var invokePath = new AtomicReference<InvokePath>();
            EventQueue events = closeLater(new EventQueue(sm -> {
                eventsJournal.set(RatisJournal.open(groupConfig(topology, Topology.EVENTS_GROUP, data), sm));
                return eventsJournal.get();
            }, event -> AsyncInvocations.run(invokePath.get(), event), clock, EventQueue.Settings.aws()));
            LeaderWatch leaders = closeLater(new LeaderWatch(leaderSources, channels));
            RemoteAssignment assignment = closeLater(new RemoteAssignment(topology, channels, leaders, pool::worker));
            metrics.watch(events, assignment);
            invokePath.set(new InvokePath(config, assignment, events, metrics.registry()));
            var api = new LambdaApi(Platform.verifier(config, clock), config, Secrets.codeLinkKey(shared), clock, invokePath.get(),
                    events, new Admin.Endpoint(config, events, metrics, Secrets.adminToken(shared)));
            services.add(new ControlEndpoint(config, Map.of(Topology.CONFIG_GROUP, configJournal.get(),
                    Topology.EVENTS_GROUP, eventsJournal.get()), api));
            groups.put(Topology.CONFIG_GROUP, configJournal.get());
            groups.put(Topology.EVENTS_GROUP, eventsJournal.get());
            RatisJournal cj = configJournal.get();
            RatisJournal ej = eventsJournal.get();
            checks.add(Probes.journalLeader(Topology.CONFIG_GROUP, () -> cj.leaderId().isPresent()));
            checks.add(Probes.journalLeader(Topology.EVENTS_GROUP, () -> ej.leaderId().isPresent()));
            events.start();
        }

        Map<Integer, Assignment> partitions = new ConcurrentHashMap<>();
        if (me.has(Role.ASSIGNMENT)) {
            if (topology.assignment() == Topology.Mode.JOURNAL) {
                List<ReplicatedPartition> members = new ArrayList<>();
                for (int p = 0; p < topology.partitions(); p++) {
                    String group = Partitioning.groupName(p);
                    ReplicatedPartition member = closeLater(ReplicatedPartition.open(groupConfig(topology, group, data), pool,
                            pool::worker, clock, keepAlive));
                    members.add(member);
                    partitions.put(p, member.assignment());
                    groups.put(group, member.journal());
                    checks.add(Probes.journalLeader(group, () -> member.journal().leaderId().isPresent()));
                }
                if (config != null) {
                    // Only a configuration that has caught up with its group can call a sandbox stale: a member
                    // still replaying (a replacement host) would see live functions as deleted or old.
                    Journal cj = config.journal();
                    config.onChange(image -> {
                        java.util.function.Predicate<dev.ignis.assignment.SandboxKey> stale =
                                cj.caughtUp() ? key -> !Platform.current(image, key) : key -> false;
                        members.forEach(m -> m.assignment().retireWhere(stale));
                    });
                }
                ScheduledExecutorService reconciler = Executors.newSingleThreadScheduledExecutor(
                        Thread.ofPlatform().name("reconcile").daemon().factory());
                closeLater(reconciler::shutdownNow);
                reconciler.scheduleWithFixedDelay(() -> reconcile(pool, members), RECONCILE_EVERY.toMillis(),
                        RECONCILE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            } else {
                // The talk's worker managers: a partition's table lives in one node's memory, created on first use.
                ConfigStore cfg = config;
                closeLater(() -> partitions.values().forEach(Assignment::close));
                partitions.clear();
                for (int p = 0; p < topology.partitions(); p++) {
                    InMemoryAssignment a = new InMemoryAssignment(pool, clock, keepAlive);
                    partitions.put(p, a);
                    if (cfg != null) {
                        cfg.onChange(image -> a.retireWhere(key -> !Platform.current(image, key)));
                    }
                }
            }
        }

        if (me.has(Role.CONFIG) || me.has(Role.ASSIGNMENT)) {
            services.add(closeLater(new AssignmentEndpoint(me.id(), partitions::get, pool::worker, groups)));
        }
        if (!services.isEmpty()) {
            closeLater(Rpc.serve(me.rpcAddress(), services));
        }

        if (me.has(Role.FRONTEND)) {
            AtomicReference<ConfigReplica> replica = new AtomicReference<>();
            ConfigStore view = closeLater(new ConfigStore(sm -> {
                replica.set(new ConfigReplica(sm, topology.withRole(Role.CONFIG), channels, me.id()));
                return replica.get();
            }, Platform.codeStore(shared), SecretSealer.open(shared), Set.of(), clock));
            if (!replica.get().awaitIndex(0, Duration.ofSeconds(60))) {
                throw new IllegalStateException("no config node sent the configuration within 60 s");
            }
            LeaderWatch leaders = closeLater(new LeaderWatch(leaderSources, channels));
            RemoteAssignment assignment = closeLater(new RemoteAssignment(topology, channels, leaders, pool::worker));
            var invokePath = new InvokePath(view, assignment, null, metrics.registry());
            var api = new LambdaApi(Platform.verifier(view, clock), view, Secrets.codeLinkKey(shared), clock, invokePath, null,
                    new Admin.MetricsEndpoint(metrics, Secrets.adminToken(shared)));
            frontend = closeLater(new FrontendServer(me.host(), me.httpPort(),
                    new ClusterFrontend(api, replica.get(), leaders, channels, topology), health(checks, topology, leaders)));
        }
        if (metricsPort >= 0) {
            ops = closeLater(OpsListener.start(metricsPort, metrics, new Health(checks)));
        }
    }

    /** The node's checks, with a frontend's own (the leaders it writes and leases through) added. */
    private static Health health(List<Health.Check> checks, Topology topology, LeaderWatch leaders) {
        checks.addAll(Probes.clusterFrontend(topology, leaders).checks());
        return new Health(checks);
    }

    /** Journal config of one group on this node: its Raft port, its directory under the node's data. */
    private JournalConfig groupConfig(Topology topology, String group, Path data) {
        return new JournalConfig(group, me.id(), topology.raftPeers(group), data.resolve("journal").resolve(group));
    }

    /**
     * On each partition this node leads: retire the idle sandboxes of workers that no longer hold them
     * (restarted), or where nothing has listened for three looks in a row (the process is gone). A slow
     * answer proves nothing and changes nothing.
     */
    private final Map<String, Integer> misses = new ConcurrentHashMap<>();

    private void reconcile(WorkerPool pool, List<ReplicatedPartition> members) {
        if (members.stream().noneMatch(m -> m.assignment().isLeader())) {
            return;
        }
        for (RemoteWorker w : pool.all()) {
            WorkerPool.Look look = pool.look(w, 2_000);
            Set<String> live;
            switch (look.seen()) {
                case UP -> {
                    misses.remove(w.workerId());
                    live = look.sandboxIds();
                }
                case DOWN -> {
                    if (misses.merge(w.workerId(), 1, Integer::sum) < 3) {
                        continue;
                    }
                    live = Set.of();
                }
                default -> {
                    continue;
                }
            }
            for (int p = 0; p < members.size(); p++) {
                ReplicatedPartition m = members.get(p);
                if (m.assignment().isLeader()) {
                    try {
                        int n = m.assignment().reconcile(w.workerId(), live);
                        if (n > 0) {
                            LOG.info("{}: retired {} sandboxes that worker {} no longer holds", Partitioning.groupName(p), n,
                                    w.workerId());
                        }
                    } catch (RuntimeException e) {
                        LOG.debug("reconcile of {} failed: {}", w.workerId(), e.toString());
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        while (!closeables.isEmpty()) {
            try {
                closeables.pop().close();
            } catch (Exception e) {
                LOG.warn("closing {} failed", me.id(), e);
            }
        }
    }
}
