package dev.tillwatch.peer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.*;
import org.junit.jupiter.api.Test;

/**
 * The peer's counts against counts taken straight from the same events: every output record
 * (scope, key, window, end) must carry the auths, failures and reversals of the key's events
 * with ts in [end - window, end), and a record must go out exactly for the keys with events in
 * the window's pane ending at `end`.
 */
class PeerTopologyTest {
  record E(String type, long ts, String terminal, String merchant, String code) {
    byte[] json(boolean isoTs) {
      String t = isoTs ? "\"" + java.time.Instant.ofEpochMilli(ts).atOffset(java.time.ZoneOffset.ofHours(8)) + "\"" : Long.toString(ts);
      String s = "{\"type\":\"" + type + "\",\"eventId\":\"e" + ts + terminal + "\",\"ts\":" + t
          + ",\"terminalId\":\"" + terminal + "\",\"merchantId\":\"" + merchant + "\",\"region\":\"CN-31\""
          + (type.equals("auth") ? ",\"txnId\":\"x\",\"amount\":100,\"currency\":\"CNY\",\"responseCode\":\"" + code + "\",\"extra\":{\"a\":[1,2,{\"b\":3}]}" : "")
          + (type.equals("reversal") ? ",\"txnId\":\"x\",\"reason\":\"timeout\",\"status\":\"succeeded\"" : "")
          + "}";
      return s.getBytes(StandardCharsets.UTF_8);
    }
  }

  static final Pattern OUT = Pattern.compile(
      "\\{\"scope\":\"(\\w+)\",\"key\":\"([^\"]+)\",\"window\":\"(\\w+)\",\"end\":(\\d+),\"auths\":(\\d+),\"failures\":(\\d+),\"reversals\":(\\d+)\\}");

  @Test
  void windowsMatchDirectCounts() throws Exception {
    Random rnd = new Random(7);
    long t0 = 1_772_409_600_000L;
    List<E> events = new ArrayList<>();
    String[] codes = {"00", "00", "00", "05", "51", "TO", "Y1"};
    String[] types = {"auth", "auth", "auth", "auth", "reversal", "heartbeat", "settlement"};
    long ts = t0;
    for (int i = 0; i < 6000; i++) {
      ts += rnd.nextInt(1500); // ~2.5 h of event time
      int term = rnd.nextInt(12);
      // up to 3 s of disorder: below the 10 s lateness, nothing is late
      events.add(new E(types[rnd.nextInt(types.length)], ts - rnd.nextInt(3000), "T" + term, "M" + (term % 3), codes[rnd.nextInt(codes.length)]));
    }
    // a late event mid-stream (15 s behind the newest so far): it must not count anywhere
    long maxSoFar = events.subList(0, 3000).stream().mapToLong(E::ts).max().getAsLong();
    E late = new E("auth", maxSoFar - 15_000, "TLATE", "M0", "05");
    long maxTs = events.stream().mapToLong(E::ts).max().getAsLong();

    Map<String, Long> got = new HashMap<>();
    try (TopologyTestDriver d = new TopologyTestDriver(
        PeerTopology.build("in", "out"),
        PeerTopology.props("peer-test", "dummy:9092", 1, Files.createTempDirectory("peer-test").toString()))) {
      TestInputTopic<byte[], byte[]> in = d.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
      TestOutputTopic<byte[], byte[]> out = d.createOutputTopic("out", new ByteArrayDeserializer(), new ByteArrayDeserializer());
      int i = 0;
      for (E e : events) {
        if (i == 3000) in.pipeInput("M0".getBytes(), late.json(false));
        in.pipeInput(e.merchant().getBytes(), e.json(i++ % 2 == 0));
      }
      in.pipeInput("M0".getBytes(), "not json".getBytes());
      in.pipeInput("M0".getBytes(), "{\"type\":\"auth\",\"ts\":1}".getBytes());
      for (var kv : out.readKeyValuesToList()) {
        String v = new String(kv.value, StandardCharsets.UTF_8);
        Matcher m = OUT.matcher(v);
        assertTrue(m.matches(), v);
        String id = m.group(1) + "/" + m.group(2) + "/" + m.group(3) + "/" + m.group(4);
        assertNull(got.put(id, 0L), "twice: " + id);
        got.put(id + "/a", Long.parseLong(m.group(5)));
        got.put(id + "/f", Long.parseLong(m.group(6)));
        got.put(id + "/r", Long.parseLong(m.group(7)));
        assertEquals(m.group(2), new String(kv.key, StandardCharsets.UTF_8));
        assertNotEquals("TLATE", m.group(2), "a late event counted");
      }
    }

    // expected: every 5 s boundary b the watermark passed, every window whose pane ends at b
    long lastClosed = Math.floorDiv(maxTs - Windows.LATENESS, Windows.BASE) * Windows.BASE;
    long first = Math.floorDiv(t0 - Windows.LATENESS, Windows.BASE) * Windows.BASE;
    int rows = 0, nonZeroFailures = 0, nonZeroReversals = 0;
    Set<String> keys = new TreeSet<>();
    for (E e : events) { keys.add("terminal/" + e.terminal()); keys.add("merchant/" + e.merchant()); }
    for (long b = first; b <= lastClosed; b += Windows.BASE) {
      for (int w = 0; w < Windows.N; w++) {
        if (b % Windows.PANE[w] != 0) continue;
        for (String k : keys) {
          String[] sk = k.split("/");
          long a = 0, f = 0, r = 0, inPane = 0;
          for (E e : events) {
            if (!(sk[0].equals("terminal") ? e.terminal() : e.merchant()).equals(sk[1])) continue;
            if (e.ts() >= b - Windows.PANE[w] && e.ts() < b) inPane++;
            if (e.ts() < b - Windows.WINDOW[w] || e.ts() >= b) continue;
            if (e.type().equals("auth")) { a++; if (!EvDeserializer.approved(e.code())) f++; }
            if (e.type().equals("reversal")) r++;
          }
          String id = k + "/" + Windows.LABEL[w] + "/" + b;
          if (inPane == 0) { assertFalse(got.containsKey(id), "unexpected " + id); continue; }
          assertTrue(got.containsKey(id), "missing " + id);
          assertEquals(a, got.get(id + "/a"), id + " auths");
          assertEquals(f, got.get(id + "/f"), id + " failures");
          assertEquals(r, got.get(id + "/r"), id + " reversals");
          rows++;
          if (f > 0) nonZeroFailures++;
          if (r > 0) nonZeroReversals++;
        }
      }
    }
    assertEquals(rows * 4, got.size(), "records beyond the expected ones");
    assertTrue(rows > 10_000 && nonZeroFailures > 1000 && nonZeroReversals > 1000, rows + " rows");
  }
}
