using System.Net;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestBroker;

/// <summary>
/// The <c>$management</c> operations Azure.Messaging.ServiceBus uses on a queue: renew-lock, peek-message,
/// schedule-message, cancel-scheduled-message, receive-by-sequence-number and update-disposition.
/// Requests and answers are AMQP maps; the status travels in the <c>statusCode</c> application property.
/// </summary>
internal static class ManagementOperations
{
    private const string Vendor = "com.microsoft:";
    private static readonly MapKey LockTokens = new("lock-tokens");
    private static readonly MapKey Expirations = new("expirations");
    private static readonly MapKey FromSequenceNumber = new("from-sequence-number");
    private static readonly MapKey MessageCount = new("message-count");
    private static readonly MapKey Messages = new("messages");
    private static readonly MapKey Message = new("message");
    private static readonly MapKey LockToken = new("lock-token");
    private static readonly MapKey SequenceNumbers = new("sequence-numbers");
    private static readonly MapKey ReceiverSettleMode = new("receiver-settle-mode");
    private static readonly MapKey DispositionStatus = new("disposition-status");
    private static readonly MapKey DeadLetterReason = new("deadletter-reason");
    private static readonly MapKey DeadLetterDescription = new("deadletter-description");

    public static AmqpMessage Answer(BrokerQueue queue, AmqpMessage request)
    {
        var operation = request.ApplicationProperties?.Map["operation"]?.ToString();
        var body = request.ValueBody?.Value as AmqpMap ?? new AmqpMap();
        try
        {
            return operation switch
            {
                Vendor + "renew-lock" => RenewLock(queue, body),
                Vendor + "peek-message" => Peek(queue, body),
                Vendor + "schedule-message" => Schedule(queue, body),
                Vendor + "cancel-scheduled-message" => CancelScheduled(queue, body),
                Vendor + "receive-by-sequence-number" => ReceiveBySequenceNumber(queue, body),
                Vendor + "update-disposition" => UpdateDisposition(queue, body),
                _ => Response(HttpStatusCode.NotImplemented, $"The test broker does not support '{operation}'.", Vendor + "not-implemented"),
            };
        }
        catch (Exception e) when (e is InvalidCastException or NullReferenceException or KeyNotFoundException or AmqpException or FormatException)
        {
            return Response(HttpStatusCode.BadRequest, e.Message, Vendor + "argument-error");
        }
    }

    /// <summary>The <c>$cbs</c> put-token answer: any token is good.</summary>
    public static AmqpMessage AcceptToken(AmqpMessage request)
    {
        var response = AmqpMessage.Create();
        response.ApplicationProperties.Map["status-code"] = 200;
        response.ApplicationProperties.Map["status-description"] = "OK";
        return response;
    }

    private static AmqpMessage RenewLock(BrokerQueue queue, AmqpMap body)
    {
        var expirations = new List<DateTime>();
        foreach (var lockToken in (Guid[])body[LockTokens])
        {
            if (queue.RenewLock(lockToken) is not { } lockedUntil)
            {
                return LockLost();
            }

            expirations.Add(lockedUntil);
        }

        return Response(HttpStatusCode.OK, new AmqpMap { [Expirations] = expirations.ToArray() });
    }

    private static AmqpMessage Peek(BrokerQueue queue, AmqpMap body)
    {
        var messages = queue.Peek((long)body[FromSequenceNumber], (int)body[MessageCount]);
        if (messages.Count == 0)
        {
            return Response(HttpStatusCode.NoContent, "No messages to peek.", Vendor + "message-not-found");
        }

        var entries = messages.Select(m => new AmqpMap { [Message] = new ArraySegment<byte>(MessageCodec.Encode(m)) }).ToList();
        return Response(HttpStatusCode.OK, new AmqpMap { [Messages] = entries });
    }

    private static AmqpMessage Schedule(BrokerQueue queue, AmqpMap body)
    {
        var encoded = ((IEnumerable<object>)body[Messages])
            .Cast<AmqpMap>()
            .Select(entry => ((ArraySegment<byte>)entry[Message]).AsSpan().ToArray())
            .ToList();
        var sequenceNumbers = queue.Enqueue(encoded);
        return Response(HttpStatusCode.OK, new AmqpMap { [SequenceNumbers] = sequenceNumbers.ToArray() });
    }

    private static AmqpMessage CancelScheduled(BrokerQueue queue, AmqpMap body)
    {
        queue.CancelScheduled((long[])body[SequenceNumbers]);
        return Response(HttpStatusCode.OK, new AmqpMap());
    }

    private static AmqpMessage ReceiveBySequenceNumber(BrokerQueue queue, AmqpMap body)
    {
        // Settle mode 1 (settle on dispose) is peek-lock; 0 is receive-and-delete.
        var peekLock = body[ReceiverSettleMode] is not uint mode || mode != 0;
        var sequenceNumbers = (long[])body[SequenceNumbers];
        var received = queue.ReceiveDeferred(sequenceNumbers, peekLock);
        if (received.Count != sequenceNumbers.Length)
        {
            return Response(HttpStatusCode.NotFound, "A requested message is not deferred, or does not exist.", Vendor + "message-not-found");
        }

        var entries = received
            .Select(r => new AmqpMap { [Message] = new ArraySegment<byte>(MessageCodec.Encode(r.Message)), [LockToken] = r.LockToken })
            .ToList();
        return Response(HttpStatusCode.OK, new AmqpMap { [Messages] = entries });
    }

    private static AmqpMessage UpdateDisposition(BrokerQueue queue, AmqpMap body)
    {
        var status = (string)body[DispositionStatus];
        var reason = body[DeadLetterReason] as string;
        var description = body[DeadLetterDescription] as string;
        foreach (var lockToken in (Guid[])body[LockTokens])
        {
            if (!queue.Settle(lockToken, status, reason, description))
            {
                return LockLost();
            }
        }

        return Response(HttpStatusCode.OK, new AmqpMap());
    }

    private static AmqpMessage LockLost() =>
        Response(HttpStatusCode.Gone, "The lock supplied is invalid: it expired, or the message was settled.", ServiceBusBroker.MessageLockLostCondition);

    private static AmqpMessage Response(HttpStatusCode status, AmqpMap body)
    {
        var response = AmqpMessage.Create(new AmqpValue { Value = body });
        response.ApplicationProperties.Map["statusCode"] = (int)status;
        response.ApplicationProperties.Map["statusDescription"] = status.ToString();
        return response;
    }

    private static AmqpMessage Response(HttpStatusCode status, string description, string errorCondition)
    {
        var response = Response(status, new AmqpMap());
        response.ApplicationProperties.Map["statusDescription"] = description;
        response.ApplicationProperties.Map["errorCondition"] = new AmqpSymbol(errorCondition);
        return response;
    }
}
