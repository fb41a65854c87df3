from tortoise import migrations
from tortoise.migrations import operations as ops
from orm.outbox_models import OutboxStatus, ProposalStatus
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MailOutbox',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('status', fields.CharEnumField(default=OutboxStatus.QUEUED, description='QUEUED: QUEUED\nSENT: SENT\nFAILED: FAILED', enum_type=OutboxStatus, max_length=6)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('claimed_by', fields.CharField(null=True, max_length=100)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('followup_id', fields.IntField(description='the follow-up, kept after it is deleted')),
                ('participant_id', fields.IntField(null=True, description='the participant, kept after removal')),
                ('uid', fields.CharField(max_length=255)),
                ('method', fields.CharField(description='REQUEST, CANCEL or DECLINECOUNTER', max_length=16)),
                ('sequence', fields.IntField(default=0)),
                ('recurrence_id', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sender', fields.CharField(description='envelope sender', max_length=320)),
                ('recipient', fields.CharField(max_length=320)),
                ('message_id', fields.CharField(max_length=255)),
                ('message', fields.TextField(description='the whole RFC 5322 message', unique=False)),
            ],
            options={'table': 'mail_outbox', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['participant_id', 'id']), Index(fields=['message_id'])], 'pk_attr': 'id', 'table_description': 'One iMIP mail to one recipient, queued in the transaction of the change.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MailReply',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('followup_id', fields.IntField()),
                ('participant_id', fields.IntField()),
                ('recurrence_id', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sequence', fields.IntField(default=0)),
                ('dtstamp', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('method', fields.CharField(default='REPLY', max_length=16)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mail_reply', 'app': 'models', 'indexes': [Index(fields=['followup_id', 'participant_id'])], 'pk_attr': 'id', 'table_description': 'The SEQUENCE and DTSTAMP of a reply applied for one attendee and occurrence.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Proposal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('followup_id', fields.IntField()),
                ('participant_id', fields.IntField()),
                ('attendee_email', fields.CharField(max_length=320)),
                ('recurrence_id', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('start_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('end_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('location', fields.CharField(null=True, max_length=500)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('status', fields.CharEnumField(default=ProposalStatus.PENDING, description='PENDING: PENDING\nACCEPTED: ACCEPTED\nDECLINED: DECLINED', enum_type=ProposalStatus, max_length=8)),
                ('sequence', fields.IntField(default=0, description='SEQUENCE the COUNTER answered')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'proposal', 'app': 'models', 'indexes': [Index(fields=['followup_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A COUNTER: an attendee proposes a new time or place for a meeting or occurrence.'},
            bases=['Model'],
        ),
    ]
