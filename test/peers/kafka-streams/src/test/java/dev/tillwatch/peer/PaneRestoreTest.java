package dev.tillwatch.peer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.*;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.Test;

/**
 * Restore: an application that stops after any event and a new one started on the store it left
 * (what Kafka Streams restores from the changelog after a crash, the events after the commit then
 * replayed) must write exactly the records one application writes over all the events.
 */
class PaneRestoreTest {
  static List<String> events(long seed, int n) {
    Random rnd = new Random(seed);
    String[] codes = {"00", "00", "05", "51", "TO"};
    String[] types = {"auth", "auth", "auth", "reversal", "heartbeat", "settlement"};
    List<String> out = new ArrayList<>();
    long ts = 1_772_409_600_000L;
    for (int i = 0; i < n; i++) {
      ts += rnd.nextInt(2500); // ~1.4 h: the 1h window wraps
      int term = rnd.nextInt(10);
      String type = types[rnd.nextInt(types.length)];
      out.add("{\"type\":\"" + type + "\",\"ts\":" + (ts - rnd.nextInt(4000)) + ",\"terminalId\":\"T" + term
          + "\",\"merchantId\":\"M" + (term % 3) + "\""
          + (type.equals("auth") ? ",\"responseCode\":\"" + codes[rnd.nextInt(codes.length)] + "\"" : "") + "}");
      // a late one now and then (20 s behind)
      if (i % 997 == 500)
        out.add("{\"type\":\"auth\",\"ts\":" + (ts - 20_000) + ",\"terminalId\":\"T1\",\"merchantId\":\"M1\",\"responseCode\":\"05\"}");
    }
    return out;
  }

  static TopologyTestDriver driver() throws Exception {
    return new TopologyTestDriver(
        PeerTopology.build("in", "out"),
        PeerTopology.props("peer-restore", "dummy:9092", 1, Files.createTempDirectory("peer-restore").toString()));
  }

  /** the events through the topology; at each cut a new application on a copy of the store */
  static List<String> run(List<String> evs, Set<Integer> cuts) throws Exception {
    List<String> out = new ArrayList<>();
    TopologyTestDriver d = driver();
    try {
      TestInputTopic<byte[], byte[]> in = d.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
      TestOutputTopic<byte[], byte[]> o = d.createOutputTopic("out", new ByteArrayDeserializer(), new ByteArrayDeserializer());
      for (int i = 0; i < evs.size(); i++) {
        if (cuts.contains(i)) {
          for (byte[] v : o.readValuesToList()) out.add(new String(v, StandardCharsets.UTF_8));
          List<KeyValue<Windowed<Bytes>, byte[]>> panes = new ArrayList<>();
          try (KeyValueIterator<Windowed<Bytes>, byte[]> it = d.<Bytes, byte[]>getWindowStore(PaneProcessor.STORE).all()) {
            it.forEachRemaining(panes::add);
          }
          d.close();
          d = driver();
          WindowStore<Bytes, byte[]> s = d.getWindowStore(PaneProcessor.STORE);
          for (var kv : panes) s.put(kv.key.key(), kv.value, kv.key.window().start());
          in = d.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
          o = d.createOutputTopic("out", new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }
        in.pipeInput("k".getBytes(), evs.get(i).getBytes(StandardCharsets.UTF_8));
      }
      for (byte[] v : o.readValuesToList()) out.add(new String(v, StandardCharsets.UTF_8));
    } finally {
      d.close();
    }
    return out;
  }

  @Test
  void aRestartedApplicationWritesWhatOneApplicationWrites() throws Exception {
    List<String> evs = events(11, 2500);
    List<String> once = run(evs, Set.of());
    assertTrue(once.size() > 3000, once.size() + " records");
    assertTrue(once.stream().anyMatch(s -> s.contains("\"window\":\"1h\"")));
    for (Set<Integer> cuts : List.of(Set.of(1), Set.of(700), Set.of(1500, 1501, 2200), Set.of(2400))) {
      List<String> restarted = run(evs, cuts);
      // the same records; within one boundary their order may differ (the active list's order)
      List<String> a = new ArrayList<>(once), b = new ArrayList<>(restarted);
      Collections.sort(a);
      Collections.sort(b);
      assertEquals(a.size(), b.size(), "records, cut at " + cuts);
      assertEquals(a, b, "cut at " + cuts);
    }
  }
}
