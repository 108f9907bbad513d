package session

import "time"

// bad_msg_notification error codes (MTProto service messages).
const (
	BadMsgIDTooLow         = 16 // msg_id too low: the client's clock is behind, or the id is old
	BadMsgIDTooHigh        = 17 // msg_id too high: the client's clock is ahead
	BadMsgIDLowBits        = 18 // a client msg_id must be divisible by 4
	BadMsgContainerID      = 19 // container msg_id equals a previous one
	BadMsgTooOld           = 20 // too old to know whether it was received
	BadMsgSeqNoTooLow      = 32
	BadMsgSeqNoTooHigh     = 33
	BadMsgSeqNoEven        = 34 // an even seqno was expected (not content-related)
	BadMsgSeqNoOdd         = 35 // an odd seqno was expected (content-related)
	BadMsgServerSalt       = 48 // answered with bad_server_salt instead
	BadMsgInvalidContainer = 64
)

// A client msg_id carries its send time in the upper 32 bits. It is
// accepted from 300 s in the past to 30 s in the future.
const (
	msgIDPast   = 300 * time.Second
	msgIDFuture = 30 * time.Second
)

// CheckClientMsgID returns the bad_msg_notification code for a client
// msg_id received at now, or 0 if it is acceptable.
func CheckClientMsgID(id int64, now time.Time) int {
	if id%4 != 0 {
		return BadMsgIDLowBits
	}
	sent := time.Unix(id>>32, 0)
	switch {
	case sent.Before(now.Add(-msgIDPast)):
		return BadMsgIDTooLow
	case sent.After(now.Add(msgIDFuture)):
		return BadMsgIDTooHigh
	}
	return 0
}

// CheckSeqNo returns the bad_msg_notification code for a message's seqno
// given whether its constructor is content-related (needs an ack), or 0.
// Content-related messages carry odd seqnos, others even ones.
func CheckSeqNo(seqNo int32, contentRelated bool) int {
	switch odd := seqNo%2 == 1; {
	case seqNo < 0:
		return BadMsgSeqNoTooLow
	case contentRelated && !odd:
		return BadMsgSeqNoOdd
	case !contentRelated && odd:
		return BadMsgSeqNoEven
	}
	return 0
}
