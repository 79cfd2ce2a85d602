package dev.tillwatch.peer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.state.Stores;

/** source (events) -> panes (PaneProcessor + its store) -> sink (window counts) */
public final class PeerTopology {
  private PeerTopology() {}

  public static Topology build(String input, String output) {
    Topology t = new Topology();
    t.addSource("events", new ByteArrayDeserializer(), new EvDeserializer(), input);
    t.addProcessor("panes", PaneProcessor::new, "events");
    // In memory, not RocksDB: the whole state is an hour of 5 s panes of a few thousand keys
    // (tens of MB at most), so a JNI call and an SST file per put buy nothing. Logged (the
    // default): the changelog is what makes it exactly-once correct across a restart, since
    // the changelog writes commit in the same transaction as the output and the offsets.
    // Cached: puts of the same pane between two commits reach the changelog once.
    Map<String, String> changelog = new HashMap<>();
    t.addStateStore(
        Stores.windowStoreBuilder(
                Stores.inMemoryWindowStore(
                    PaneProcessor.STORE,
                    Duration.ofMillis(Windows.RETENTION),
                    Duration.ofMillis(Windows.BASE),
                    false),
                Serdes.Bytes(),
                Serdes.ByteArray())
            .withCachingEnabled()
            .withLoggingEnabled(changelog),
        "panes");
    t.addSink("out", output, new ByteArraySerializer(), new ByteArraySerializer(), "panes");
    return t;
  }

  /** The settings the peer runs with (README "Design"). */
  public static Properties props(String appId, String brokers, int threads, String stateDir) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    p.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, EvTimestampExtractor.class);
    p.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class);
    // EOS defaults to 100 ms: each commit is a transaction and a cache flush; 500 ms lets the
    // cache fold more puts of the same pane into one changelog record.
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 500);
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 64L * 1024 * 1024);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    p.put(StreamsConfig.METRICS_RECORDING_LEVEL_CONFIG, "INFO");
    // consumer: big fetches, many records per poll, and a deep per-partition buffer: at the
    // default 1,000 records Streams pauses a partition after a fraction of one fetch, and the
    // stream thread then waits in poll for the next (half its time in a profile)
    p.put(StreamsConfig.BUFFERED_RECORDS_PER_PARTITION_CONFIG, 50_000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 10_000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), 64 * 1024);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 50);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), 4 * 1024 * 1024);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_BYTES_CONFIG), 64 * 1024 * 1024);
    // producer (output and changelogs): batches, not records
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 20);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG), 128L * 1024 * 1024);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    return p;
  }
}
