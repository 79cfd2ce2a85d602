package dev.tillwatch.peer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * One pass of Jackson's streaming parser over the value: reads type, ts, terminalId, merchantId
 * and responseCode, skips every other field (no tree, no data binding). A value that is not an
 * object with those fields (an event the processor would dead-letter) decodes to null, which
 * EvTimestampExtractor turns into a skipped record.
 */
public final class EvDeserializer implements Deserializer<Ev> {
  private static final JsonFactory JSON = new JsonFactory();

  @Override
  public Ev deserialize(String topic, byte[] data) {
    if (data == null) return null;
    try (JsonParser p = JSON.createParser(data)) {
      if (p.nextToken() != JsonToken.START_OBJECT) return null;
      Ev ev = new Ev();
      String code = null;
      boolean hasTs = false;
      String name;
      while ((name = p.nextFieldName()) != null) {
        JsonToken t = p.nextToken();
        switch (name) {
          case "type":
            if (t != JsonToken.VALUE_STRING) return null;
            switch (p.getText()) {
              case "auth": ev.type = Ev.AUTH; break;
              case "reversal": ev.type = Ev.REVERSAL; break;
              case "settlement": ev.type = Ev.SETTLEMENT; break;
              case "heartbeat": ev.type = Ev.HEARTBEAT; break;
              default: return null;
            }
            break;
          case "ts":
            if (t == JsonToken.VALUE_NUMBER_INT) ev.ts = p.getLongValue();
            else if (t == JsonToken.VALUE_NUMBER_FLOAT) ev.ts = (long) p.getDoubleValue();
            else if (t == JsonToken.VALUE_STRING) ev.ts = parseIso(p.getText());
            else return null;
            hasTs = true;
            break;
          case "terminalId":
            if (t != JsonToken.VALUE_STRING) return null;
            ev.terminalId = p.getText();
            break;
          case "merchantId":
            if (t != JsonToken.VALUE_STRING) return null;
            ev.merchantId = p.getText();
            break;
          case "responseCode":
            if (t == JsonToken.VALUE_STRING) code = p.getText();
            break;
          default:
            p.skipChildren();
        }
      }
      if (ev.type == 0 || !hasTs || ev.ts < 0 || !isId(ev.terminalId) || !isId(ev.merchantId))
        return null;
      if (ev.type == Ev.AUTH) {
        if (code == null) return null;
        ev.failed = !approved(code);
      }
      return ev;
    } catch (Exception e) {
      return null;
    }
  }

  /** The contract's default "approved" category: 00, 08, 10, 11, 16, 85, Y1, Y3. */
  static boolean approved(String c) {
    switch (c) {
      case "00": case "08": case "10": case "11": case "16": case "85": case "Y1": case "Y3":
        return true;
      default:
        return false;
    }
  }

  /** 1..32 chars of [A-Za-z0-9_.:-] (the contract's id alphabet) */
  static boolean isId(String s) {
    if (s == null || s.isEmpty() || s.length() > 32) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '.' || c == ':' || c == '-')) return false;
    }
    return true;
  }

  static long parseIso(String s) {
    return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
  }
}
