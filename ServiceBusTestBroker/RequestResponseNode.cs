using System.Collections.Concurrent;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestBroker;

/// <summary>
/// An AMQP request/response node (<c>$cbs</c>, <c>&lt;queue&gt;/$management</c>): requests arrive on one link and each
/// answer goes back on the link whose target is the request's reply-to, correlated by the request's message id.
/// </summary>
internal sealed class RequestResponseNode(Func<AmqpMessage, AmqpMessage> answer)
{
    private readonly ConcurrentDictionary<string, SendingAmqpLink> _replyLinks = new();

    public void Attach(AmqpLink link)
    {
        if (link is SendingAmqpLink replyLink)
        {
            var replyTo = ((Target)replyLink.Settings.Target).Address?.ToString() ?? replyLink.Name;
            _replyLinks[replyTo] = replyLink;
            replyLink.Closed += (_, _) => _replyLinks.TryRemove(new KeyValuePair<string, SendingAmqpLink>(replyTo, replyLink));
            return;
        }

        var requestLink = (ReceivingAmqpLink)link;
        requestLink.RegisterMessageListener(request =>
        {
            try
            {
                requestLink.DisposeDelivery(request, true, AmqpConstants.AcceptedOutcome);
                var response = answer(request);
                response.Properties.CorrelationId = request.Properties.MessageId;
                var replyTo = request.Properties.ReplyTo?.ToString();
                if (replyTo is not null && _replyLinks.TryGetValue(replyTo, out var replyLink))
                {
                    replyLink.SendMessageNoWait(response, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary);
                }
            }
            finally
            {
                request.Dispose();
            }
        });
        requestLink.SetTotalLinkCredit(ServiceBusBroker.SenderLinkCredit, true, true);
    }
}
