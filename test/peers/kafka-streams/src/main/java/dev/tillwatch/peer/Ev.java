package dev.tillwatch.peer;

/** The fields of a terminal event the peer needs (CONTRACT.md section 1), nothing else. */
public final class Ev {
  public static final byte AUTH = 1, REVERSAL = 2, SETTLEMENT = 3, HEARTBEAT = 4;

  public byte type;
  /** event time, epoch ms */
  public long ts;
  public String terminalId;
  public String merchantId;
  /** auths only: the response code is not in the approved category */
  public boolean failed;
}
