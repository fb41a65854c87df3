from tortoise import migrations
from tortoise.migrations import operations as ops
from orm.intake_models import MailboxState
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_mail_order_states')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Mailbox',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('associate_id', fields.IntField(null=True, description='the owner, null for the shared mailbox')),
                ('shared', fields.BooleanField(default=False)),
                ('host', fields.CharField(max_length=255)),
                ('port', fields.IntField(default=993)),
                ('tls', fields.BooleanField(default=True, description='implicit TLS (IMAPS)')),
                ('username', fields.CharField(max_length=320)),
                ('secret_enc', fields.TextField(null=True, description='Fernet-encrypted password', unique=False)),
                ('folder', fields.CharField(default='INBOX', max_length=255)),
                ('uidvalidity', fields.BigIntField(null=True)),
                ('last_uid', fields.BigIntField(default=0)),
                ('state', fields.CharEnumField(default=MailboxState.OK, description='OK: OK\nFAILED: FAILED', enum_type=MailboxState, max_length=8)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('checked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mailbox', 'app': 'models', 'indexes': [Index(fields=['associate_id'])], 'pk_attr': 'id', 'table_description': 'An IMAP mailbox whose calendar mails (replies, counters, bounces) the service reads.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MailboxMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('mailbox_id', fields.IntField()),
                ('uidvalidity', fields.BigIntField()),
                ('uid', fields.BigIntField()),
                ('message_id', fields.CharField(null=True, max_length=998)),
                ('outcome', fields.CharField(description='APPLIED, IGNORED or REJECTED', max_length=16)),
                ('reason', fields.TextField(unique=False)),
                ('followup_id', fields.IntField(null=True)),
                ('processed_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mailbox_message', 'app': 'models', 'unique_together': (('mailbox_id', 'uidvalidity', 'uid'),), 'indexes': [Index(fields=['mailbox_id', 'message_id'])], 'pk_attr': 'id', 'table_description': 'What one calendar mail found in a mailbox did.'},
            bases=['Model'],
        ),
    ]
