using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace ServiceBusTestBroker;

/// <summary>How the broker treats connections, for outage tests.</summary>
public enum BrokerAvailability
{
    /// <summary>Serves every connection.</summary>
    Online,

    /// <summary>Closes each new connection before it opens, and drops the open ones.</summary>
    Refusing,

    /// <summary>Takes new connections but never answers their AMQP open, and drops the open ones.</summary>
    Stalled,
}

/// <summary>
/// A small AMQP 1.0 server, for tests and benchmarks only, that Azure.Messaging.ServiceBus talks to through
/// <see cref="ConnectionString"/> (plain AMQP on a free loopback port, <c>UseDevelopmentEmulator=true</c>).
/// Queues exist only once <see cref="CreateQueue"/> made them.
/// </summary>
public sealed class ServiceBusBroker : IAsyncDisposable
{
    public const string DeadLetterQueueSuffix = "$DeadLetterQueue";
    internal const string ManagementSuffix = "$management";
    internal const string DeadLetterCondition = "com.microsoft:dead-letter";
    internal const string MessageLockLostCondition = "com.microsoft:message-lock-lost";
    internal const uint SenderLinkCredit = 1000;

    /// <summary>The Standard tier's maximum message size, which the client reads from the link to size its batches.</summary>
    public const long DefaultMaxMessageSize = 256 * 1024;

    private readonly ConcurrentDictionary<string, BrokerQueue> _queues = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<AmqpConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<TransportBase, byte> _stalledTransports = new();
    private readonly AmqpTransportListener _amqpListener;
    private readonly AmqpSettings _settings;
    private readonly RequestResponseNode _cbs = new(ManagementOperations.AcceptToken);
    private readonly ConcurrentDictionary<string, RequestResponseNode> _managementNodes = new(StringComparer.OrdinalIgnoreCase);
    private readonly Timer _sweepTimer;

    private ServiceBusBroker(long maxMessageSize)
    {
        MaxMessageSize = maxMessageSize;
        _settings = new AmqpSettings { RuntimeProvider = new LinkRouter(this) };
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        sasl.AddHandler(new SaslAnonymousHandler());
        sasl.AddHandler(new SaslPlainHandler(new AnyPlainCredentials()));
        _settings.TransportProviders.Add(sasl);
        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        _settings.TransportProviders.Add(amqp);

        Port = FreeLoopbackPort();
        var tcp = new TcpTransportSettings { Host = IPAddress.Loopback.ToString(), Port = Port };
        _amqpListener = new AmqpTransportListener([tcp.CreateListener()], _settings);
        _sweepTimer = new Timer(_ => Sweep(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public int Port { get; }

    public long MaxMessageSize { get; }

    /// <summary>The connection string for <c>new ServiceBusClient(...)</c>: any key is accepted.</summary>
    public string ConnectionString =>
        $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName=test;SharedAccessKey=test;UseDevelopmentEmulator=true";

    public BrokerAvailability Availability { get; private set; } = BrokerAvailability.Online;

    /// <summary>Starts a broker on a free loopback port.</summary>
    public static ServiceBusBroker Start(long maxMessageSize = DefaultMaxMessageSize)
    {
        var broker = new ServiceBusBroker(maxMessageSize);
        broker._amqpListener.Listen(broker.OnTransportAccepted);
        broker._sweepTimer.Change(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50));
        return broker;
    }

    /// <summary>Creates a queue (and its dead-letter sub-queue). A zero window turns duplicate detection off.</summary>
    public BrokerQueue CreateQueue(
        string name,
        int maxDeliveryCount = 10,
        TimeSpan? lockDuration = null,
        TimeSpan? duplicateDetectionWindow = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDeliveryCount, 1);
        var queue = new BrokerQueue(name, maxDeliveryCount, lockDuration ?? TimeSpan.FromSeconds(30), duplicateDetectionWindow ?? TimeSpan.Zero, false);
        if (!_queues.TryAdd(name, queue))
        {
            throw new InvalidOperationException($"Queue '{name}' already exists.");
        }

        return queue;
    }

    public BrokerQueue GetQueue(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue : throw new KeyNotFoundException($"Queue '{name}' does not exist.");

    /// <summary>Online, refusing or stalled; refusing and stalled drop every open connection first.</summary>
    public void SetAvailability(BrokerAvailability availability)
    {
        Availability = availability;

        // Connections a stall held are closed whatever comes next, so their clients stop waiting.
        foreach (var transport in _stalledTransports.Keys)
        {
            _stalledTransports.TryRemove(transport, out _);
            transport.Abort();
        }

        if (availability != BrokerAvailability.Online)
        {
            foreach (var connection in _connections.Keys)
            {
                connection.Abort();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweepTimer.DisposeAsync();
        SetAvailability(BrokerAvailability.Refusing);
        _amqpListener.Close();
    }

    private void Sweep()
    {
        var now = DateTime.UtcNow;
        foreach (var queue in _queues.Values)
        {
            queue.Sweep(now);
            queue.DeadLetterQueue?.Sweep(now);
        }
    }

    private void OnTransportAccepted(TransportListener listener, TransportAsyncCallbackArgs args)
    {
        switch (Availability)
        {
            case BrokerAvailability.Refusing:
                args.Transport.Abort();
                return;
            case BrokerAvailability.Stalled:
                _stalledTransports.TryAdd(args.Transport, 0);
                return;
        }

        var connectionSettings = new AmqpConnectionSettings
        {
            ContainerId = "service-bus-test-broker",
            MaxFrameSize = AmqpConstants.DefaultMaxFrameSize,
            IdleTimeOut = 4 * 60 * 1000,
        };
        AmqpConnection? connection = null;
        try
        {
            connection = new AmqpConnection(args.Transport, (ProtocolHeader)args.UserToken, false, _settings, connectionSettings);
            _connections.TryAdd(connection, 0);
            connection.Closed += (sender, _) => _connections.TryRemove((AmqpConnection)sender!, out var _);
            _ = OpenAsync(connection);
        }
        catch (Exception e) when (e is AmqpException or InvalidOperationException or ObjectDisposedException)
        {
            connection?.SafeClose(e);
            args.Transport.Abort();
        }
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task OpenAsync(AmqpConnection connection)
    {
        try
        {
            await connection.OpenAsync(AmqpConstants.DefaultTimeout);
        }
        catch (Exception e) when (e is AmqpException or TimeoutException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            connection.SafeClose(e);
        }
    }

    /// <summary>Routes an attach by its address: <c>$cbs</c>, <c>q</c>, <c>q/$DeadLetterQueue</c>, and either one's <c>/$management</c>.</summary>
    private void AttachLink(AmqpLink link)
    {
        var address = (link.IsReceiver ? ((Target)link.Settings.Target).Address : ((Source)link.Settings.Source).Address)?.ToString()
            ?? throw new AmqpException(AmqpErrorCode.InvalidField, "The link has no address.");
        var path = address.Trim('/');
        if (path.Equals("$cbs", StringComparison.OrdinalIgnoreCase))
        {
            _cbs.Attach(link);
            return;
        }

        var isManagement = path.EndsWith("/" + ManagementSuffix, StringComparison.OrdinalIgnoreCase);
        var entityPath = isManagement ? path[..^(ManagementSuffix.Length + 1)] : path;
        var queue = FindEntity(entityPath)
            ?? throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{entityPath}' could not be found.");
        if (isManagement)
        {
            _managementNodes.GetOrAdd(queue.Name, _ => new RequestResponseNode(request => ManagementOperations.Answer(queue, request))).Attach(link);
        }
        else if (link is ReceivingAmqpLink incoming)
        {
            QueuePublisher.Attach(incoming, queue);
        }
        else
        {
            _ = new QueueConsumer((SendingAmqpLink)link, queue);
        }
    }

    private BrokerQueue? FindEntity(string path)
    {
        var deadLetter = path.EndsWith("/" + DeadLetterQueueSuffix, StringComparison.OrdinalIgnoreCase);
        var queueName = deadLetter ? path[..^(DeadLetterQueueSuffix.Length + 1)] : path;
        return _queues.TryGetValue(queueName, out var queue) ? (deadLetter ? queue.DeadLetterQueue : queue) : null;
    }

    /// <summary>The AMQP stack's factory for the server side: plain links, with attach routed to the broker's entities.</summary>
    private sealed class LinkRouter(ServiceBusBroker broker) : IRuntimeProvider
    {
        public AmqpConnection CreateConnection(TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings) =>
            new(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);

        public AmqpSession CreateSession(AmqpConnection connection, AmqpSessionSettings settings) =>
            throw new InvalidOperationException("The broker does not initiate sessions.");

        public AmqpLink CreateLink(AmqpSession session, AmqpLinkSettings settings)
        {
            if (settings.IsReceiver())
            {
                settings.MaxMessageSize = (ulong)broker.MaxMessageSize;
                return new ReceivingAmqpLink(session, settings);
            }

            return new SendingAmqpLink(session, settings);
        }

        public IAsyncResult BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
        {
            broker.AttachLink(link);
            var opened = new TaskCompletionSource(state);
            opened.SetResult();
            callback(opened.Task);
            return opened.Task;
        }

        public void EndOpenLink(IAsyncResult result)
        {
        }
    }

    private sealed class AnyPlainCredentials : ISaslPlainAuthenticator
    {
        public Task<System.Security.Principal.IPrincipal> AuthenticateAsync(string identity, string password) =>
            Task.FromResult<System.Security.Principal.IPrincipal>(
                new System.Security.Principal.GenericPrincipal(new System.Security.Principal.GenericIdentity(identity), ["Send", "Listen", "Manage"]));
    }
}
