using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestBroker;

/// <summary>A client's receiver on a queue: deliveries within its exact link credit, and its dispositions.</summary>
internal sealed class QueueConsumer
{
    private static readonly Rejected LockLost = new()
    {
        Error = new Error { Condition = ServiceBusBroker.MessageLockLostCondition, Description = "The lock supplied is invalid: it expired, or the message was settled." },
    };

    private readonly SendingAmqpLink _link;
    private readonly BrokerQueue _queue;

    public QueueConsumer(SendingAmqpLink link, BrokerQueue queue)
    {
        _link = link;
        _queue = queue;
        ReceiveAndDelete = link.Settings.SettleType == SettleMode.SettleOnSend;
        queue.AddConsumer(this);
        link.Closed += (_, _) => queue.RemoveConsumer(this);
        link.RegisterCreditListener((credit, drain, _) => queue.AddCredit(this, credit, drain));
        link.RegisterDispositionListener(OnDisposition);
    }

    /// <summary>Credit the client has granted and the broker has not used; guarded by the queue.</summary>
    public int Credit { get; set; }

    public bool ReceiveAndDelete { get; }

    public bool TrySend(AmqpMessage message, Guid lockToken)
    {
        try
        {
            _link.SendMessageNoWait(message, new ArraySegment<byte>(lockToken.ToByteArray()), AmqpConstants.NullBinary);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or AmqpException)
        {
            return false;
        }
    }

    private void OnDisposition(Delivery delivery)
    {
        var tag = delivery.DeliveryTag;
        var outcome = delivery.State;
        var settled = tag.Count == 16 && _queue.Settle(new Guid(tag.AsSpan()), outcome);
        if (!delivery.Settled)
        {
            // The client reads a rejected outcome that carries an error as a failure, so a done dead-letter answers without one.
            _link.DisposeDelivery(delivery, true, !settled ? LockLost : outcome is Rejected ? new Rejected() : outcome);
        }
    }
}

/// <summary>A client's sender on a queue: every transfer (a batch unpacked into its messages) is kept, then accepted.</summary>
internal static class QueuePublisher
{
    public static void Attach(ReceivingAmqpLink link, BrokerQueue queue)
    {
        link.RegisterMessageListener(message =>
        {
            try
            {
                queue.Enqueue(MessageCodec.Unpack(message));
                link.DisposeDelivery(message, true, AmqpConstants.AcceptedOutcome);
            }
            catch (Exception e) when (e is AmqpException or InvalidOperationException or InvalidCastException or FormatException)
            {
                link.DisposeDelivery(message, true, new Rejected { Error = new Error { Condition = AmqpErrorCode.DecodeError, Description = e.Message } });
            }
            finally
            {
                message.Dispose();
            }
        });
        link.SetTotalLinkCredit(ServiceBusBroker.SenderLinkCredit, true, true);
    }
}
