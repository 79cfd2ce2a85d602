package dev.tillwatch.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.streams.KafkaStreams;

/**
 * java -cp ... dev.tillwatch.peer.PeerApp --brokers B --topic T [--output O] [--app-id A]
 *   [--events N] [--threads K (default 1)]
 *
 * Creates the output topic (the input's partition count), starts the topology, and waits until
 * the application's committed offsets reach the input's end offsets as they were at the start
 * (and, with --events, until they add up to N). Prints one JSON line when it starts the
 * streams ({"started":...}) and one at the end: events, seconds, events/s (from streams.start()
 * to the last offset committed), then closes and exits 0.
 */
public final class PeerApp {
  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
    String brokers = req(a, "brokers");
    String topic = req(a, "topic");
    String output = a.getOrDefault("output", topic + ".peer-windows");
    String appId = a.getOrDefault("app-id", "tillwatch-streams-peer-" + Long.toString(System.currentTimeMillis(), 36));
    long want = Long.parseLong(a.getOrDefault("events", "0"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "1"));
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "1800000"));

    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    try (Admin admin = Admin.create(ap)) {
      TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      int partitions = d.partitions().size();
      try {
        admin.createTopics(List.of(new NewTopic(output, partitions, (short) 1))).all().get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
      }
      Map<TopicPartition, OffsetSpec> latest = d.partitions().stream()
          .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
      Map<TopicPartition, Long> ends = new HashMap<>();
      admin.listOffsets(latest).all().get().forEach((tp, r) -> ends.put(tp, r.offset()));
      long total = ends.values().stream().mapToLong(Long::longValue).sum();
      if (want > total) throw new IllegalStateException("--events " + want + " but the topic holds " + total);

      Path stateDir = Files.createTempDirectory("tillwatch-streams-peer-");
      KafkaStreams streams = new KafkaStreams(
          PeerTopology.build(topic, output), PeerTopology.props(appId, brokers, threads, stateDir.toString()));
      Thread hook = new Thread(() -> streams.close(Duration.ofSeconds(10)));
      Runtime.getRuntime().addShutdownHook(hook);
      System.out.println("{\"started\":true,\"appId\":\"" + appId + "\",\"partitions\":" + partitions
          + ",\"threads\":" + threads + "}");
      System.out.flush();
      long t0 = System.nanoTime();
      streams.start();
      long committed = 0;
      while (true) {
        if (streams.state() == KafkaStreams.State.ERROR || streams.state() == KafkaStreams.State.NOT_RUNNING)
          throw new IllegalStateException("streams " + streams.state());
        Map<TopicPartition, OffsetAndMetadata> c =
            admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get();
        committed = 0;
        boolean all = true;
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
          OffsetAndMetadata o = c.get(e.getKey());
          long off = o == null ? 0 : o.offset();
          committed += off;
          if (off < e.getValue()) all = false;
        }
        if (want > 0 ? committed >= want : all) break;
        if ((System.nanoTime() - t0) / 1_000_000 > timeoutMs)
          throw new IllegalStateException("timed out at " + committed + " committed");
        Thread.sleep(100);
      }
      double s = (System.nanoTime() - t0) / 1e9;
      streams.close(Duration.ofSeconds(30));
      // after close: every task has stopped, the counters are final
      System.out.println("{\"events\":" + committed + ",\"seconds\":" + String.format("%.3f", s)
          + ",\"eventsPerSec\":" + Math.round(committed / s) + ",\"windowRecords\":"
          + PaneProcessor.emittedAll() + ",\"lateDropped\":" + PaneProcessor.lateAll() + "}");
      System.out.flush();
      streams.cleanUp();
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    System.exit(0);
  }

  private static String req(Map<String, String> a, String k) {
    String v = a.get(k);
    if (v == null) {
      System.err.println("missing --" + k);
      System.exit(2);
    }
    return v;
  }
}
