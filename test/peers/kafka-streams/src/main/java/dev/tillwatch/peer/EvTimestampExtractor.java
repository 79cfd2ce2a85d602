package dev.tillwatch.peer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time from the event's own ts. The extractor sees the deserialized value, so the JSON is
 * parsed once (EvDeserializer) for both the timestamp and the counts. An undecodable value gets
 * -1, and Kafka Streams skips records with a negative timestamp.
 */
public final class EvTimestampExtractor implements TimestampExtractor {
  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    Object v = record.value();
    return v instanceof Ev ? ((Ev) v).ts : -1L;
  }
}
